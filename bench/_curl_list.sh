#!/usr/bin/env bash
# Raw HTTP baseline for the list case: every IP address, page by page, with curl.
#
#   bash bench/_curl_list.sh MODE URL PAGE_SIZE CONCURRENCY    (token in $NETBOX_TOKEN)
#
# MODE: seq-offset  follow the offsets one page after the other (what pynetbox does)
#       seq-cursor  follow `next` (start=<id>) one page after the other
#       par-offset  the first page gives the count, the other offsets CONCURRENCY at a time
#       par-cursor  one probe gives the highest id, then id ranges of one page each
#                   (start=<lo>&id__lt=<hi>), CONCURRENCY at a time: the server's best case
# Bodies are written to a temporary directory and not parsed (only the first bytes, for the
# count / next link); prints {"count": N, "requests": R} with N summed from the pages.
set -euo pipefail
mode="$1" url="${2%/}" page="$3" conc="$4"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
umask 077
printf 'Authorization: Bearer %s\nAccept: application/json\n' "$NETBOX_TOKEN" >"$dir/h"
api="$url/api/ipam/ip-addresses/"

get() { # query, output file
  curl -sS --fail -H @"$dir/h" -o "$2" "$api?$1"
}
count_of() { grep -o '"count":[0-9]*' "$1" | head -n1 | cut -d: -f2; }
items_of() { { grep -o '"url":"[^"]*/api/ipam/ip-addresses/[0-9]*/"' "$1" || true; } | wc -l; }
export -f get
export dir api

case "$mode" in
seq-offset)
  get "limit=$page&offset=0" "$dir/p0"
  total="$(count_of "$dir/p0")"
  n=1
  for ((off = page; off < total; off += page)); do
    get "limit=$page&offset=$off" "$dir/p$n"
    n=$((n + 1))
  done
  ;;
seq-cursor)
  q="limit=$page&start=0"
  n=0
  while [[ -n "$q" ]]; do
    get "$q" "$dir/p$n"
    next="$(head -c 400 "$dir/p$n" | grep -o '"next":"[^"]*"' || true)"
    q="${next#*\?}"
    q="${q%\"}"
    n=$((n + 1))
  done
  ;;
par-offset)
  get "limit=$page&offset=0" "$dir/p0"
  total="$(count_of "$dir/p0")"
  seq "$page" "$page" "$((total - 1))" |
    xargs -P "$conc" -I{} bash -c 'get "limit='"$page"'&offset={}" "$dir/p{}"'
  ;;
par-cursor)
  get "ordering=-id&limit=1&fields=id" "$dir/probe"
  max="$(grep -o '"id":[0-9]*' "$dir/probe" | head -n1 | cut -d: -f2)"
  seq 0 "$page" "$max" |
    xargs -P "$conc" -I{} bash -c 'get "limit='"$page"'&start={}&id__lt=$(({} + '"$page"'))" "$dir/p{}"'
  ;;
*)
  echo "usage: _curl_list.sh seq-offset|seq-cursor|par-offset|par-cursor URL PAGE CONC" >&2
  exit 2
  ;;
esac
items=0 reqs=0
for f in "$dir"/p*; do
  items=$((items + $(items_of "$f")))
  reqs=$((reqs + 1))
done
if [[ "$mode" == par-cursor ]]; then reqs=$((reqs + 1)); fi
printf '{"count": %d, "requests": %d}\n' "$items" "$reqs"
