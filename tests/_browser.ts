/**
 * A headless Chromium driven over the Chrome DevTools Protocol (WebSocket, built into Deno): for
 * tests that look at pages as a person would (log in, open a page, read the rendered DOM, take a
 * screenshot) and see which resources failed to load. No npm package: Debian's `chromium`.
 *
 * @module
 */

/** Where Chromium is, or an error that says how to install it. */
export function chromiumPath(): string {
  for (const p of ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]) {
    try {
      Deno.statSync(p);
      return p;
    } catch {
      // next
    }
  }
  throw new Error("Cannot find Chromium: apt-get install -y chromium");
}

/** One resource the page loaded (or failed to). */
export interface Resource {
  url: string;
  /** HTTP status, or 0 when the request failed without an answer. */
  status: number;
  error?: string;
}

type Pending = { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void };

/** A browser with one page. `await using` closes it (and kills Chromium). */
export class Browser {
  /** Every resource of every page loaded so far, in order. */
  readonly resources: Resource[] = [];
  #ws: WebSocket;
  #child: Deno.ChildProcess;
  #profile: string;
  #session = "";
  #next = 1;
  #pending = new Map<number, Pending>();
  #waiters: { method: string; resolve: () => void }[] = [];
  #urls = new Map<string, string>();

  private constructor(ws: WebSocket, child: Deno.ChildProcess, profile: string) {
    this.#ws = ws;
    this.#child = child;
    this.#profile = profile;
    ws.onmessage = (ev) => this.#onMessage(JSON.parse(String(ev.data)));
  }

  /** Starts Chromium (headless, its own profile) and opens a blank page. */
  static async launch(): Promise<Browser> {
    const profile = await Deno.makeTempDir({ prefix: "nbtk-chromium-" });
    const child = new Deno.Command(chromiumPath(), {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        `--user-data-dir=${profile}`,
        "--window-size=1280,1000",
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    let endpoint: string | undefined;
    while (!endpoint) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`Chromium exited before listening:\n${seen}`);
      seen += value;
      endpoint = /DevTools listening on (ws:\/\/\S+)/.exec(seen)?.[1];
    }
    // Keep draining stderr so Chromium never blocks on a full pipe.
    (async () => {
      try {
        while (!(await reader.read()).done) { /* drain */ }
      } catch { /* closed */ }
    })();
    const ws = new WebSocket(endpoint);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`Cannot connect to Chromium at ${endpoint}`));
    });
    const browser = new Browser(ws, child, profile);
    const { targetId } = await browser.#send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await browser.#send("Target.attachToTarget", {
      targetId,
      flatten: true,
    });
    browser.#session = String(sessionId);
    await browser.#send("Page.enable", {}, true);
    await browser.#send("Network.enable", {}, true);
    return browser;
  }

  #onMessage(msg: Record<string, unknown>): void {
    if (typeof msg.id === "number") {
      const p = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      const error = msg.error as { message?: string } | undefined;
      if (error) p?.reject(new Error(`Chromium: ${error.message}`));
      else p?.resolve((msg.result ?? {}) as Record<string, unknown>);
      return;
    }
    const params = (msg.params ?? {}) as Record<string, unknown>;
    if (msg.method === "Network.requestWillBeSent") {
      const req = params.request as { url: string };
      this.#urls.set(String(params.requestId), req.url);
    } else if (msg.method === "Network.responseReceived") {
      const res = params.response as { url: string; status: number };
      this.resources.push({ url: res.url, status: res.status });
    } else if (msg.method === "Network.loadingFailed") {
      const url = this.#urls.get(String(params.requestId)) ?? "?";
      if (!params.canceled) {
        this.resources.push({ url, status: 0, error: String(params.errorText) });
      }
    }
    for (const w of this.#waiters.filter((w) => w.method === msg.method)) {
      this.#waiters.splice(this.#waiters.indexOf(w), 1);
      w.resolve();
    }
  }

  #send(
    method: string,
    params: Record<string, unknown> = {},
    inPage = false,
  ): Promise<Record<string, unknown>> {
    const id = this.#next++;
    const msg: Record<string, unknown> = { id, method, params };
    if (inPage) msg.sessionId = this.#session;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify(msg));
    });
  }

  #event(method: string): Promise<void> {
    return new Promise((resolve) => this.#waiters.push({ method, resolve }));
  }

  /** Opens `url` and waits for its load event. */
  async goto(url: string): Promise<void> {
    const loaded = this.#event("Page.loadEventFired");
    const answer = await this.#send("Page.navigate", { url }, true);
    if (answer.errorText) throw new Error(`Cannot open ${url}: ${answer.errorText}`);
    await loaded;
  }

  /** Runs `expression` in the page (awaiting a promise) and returns its JSON value. */
  async eval<T = unknown>(expression: string): Promise<T> {
    const answer = await this.#send("Runtime.evaluate", {
      expression,
      awaitPromise: true,
      returnByValue: true,
    }, true);
    const thrown = answer.exceptionDetails as {
      text?: string;
      exception?: { description?: string };
    };
    if (thrown) {
      throw new Error(`In the page: ${thrown.exception?.description ?? thrown.text}`);
    }
    return (answer.result as { value: T }).value;
  }

  /** Submits a form in the page by filling `fields` (CSS selector → value) and waits for the load. */
  async submit(fields: Record<string, string>, button: string): Promise<void> {
    const loaded = this.#event("Page.loadEventFired");
    await this.eval(`(() => {
      for (const [sel, value] of Object.entries(${JSON.stringify(fields)})) {
        const el = document.querySelector(sel);
        if (!el) throw new Error("no " + sel + " on " + location.href);
        el.value = value;
      }
      document.querySelector(${JSON.stringify(button)}).click();
    })()`);
    await loaded;
  }

  /** A PNG screenshot of the page, written to `file`. */
  async screenshot(file: string): Promise<void> {
    const { data } = await this.#send("Page.captureScreenshot", { format: "png" }, true);
    const bin = atob(String(data));
    await Deno.writeFile(file, Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.#send("Browser.close").catch(() => {});
    } finally {
      this.#ws.close();
      try {
        this.#child.kill("SIGKILL");
      } catch { /* gone */ }
      await this.#child.status;
      await this.#child.stderr.cancel().catch(() => {});
      await Deno.remove(this.#profile, { recursive: true }).catch(() => {});
    }
  }
}
