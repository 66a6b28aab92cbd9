/**
 * A loopback HTTP server for download tests. `GET /<mode>/<name>` serves the registered file `name` with
 * a fault chosen by `mode`:
 * - `ok`: honours Range (206);
 * - `norange`: ignores Range (always 200 with the whole file);
 * - `cut`: the first request sends half the body and breaks the connection; later ones behave as `ok`;
 * - `cutnorange`: like `cut`, but later requests ignore Range;
 * - `404`: not found; `html`: a 200 HTML error page; `htmlstream`: the same without Content-Length; `wrong`: right size and magic, wrong bytes;
 * - `stall`: sends the first 1 KiB then nothing (until the client gives up or the server closes);
 * - `slow`: sends the body in 16 KiB pieces `slowDelayMs` (default 5) apart.
 */

/** One request the server saw. */
export interface SeenRequest {
  mode: string;
  name: string;
  range: string | null;
}

/** A running fault server. */
export interface FaultServer {
  base: string;
  requests: SeenRequest[];
  files: Map<string, Uint8Array>;
  close(): Promise<void>;
}

const BODY_PAD = 4096;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the server on 127.0.0.1 with a free port. */
export function startFaultServer(
  files: Record<string, Uint8Array> = {},
  { slowDelayMs = 5 }: { slowDelayMs?: number } = {},
): FaultServer {
  const store = new Map(Object.entries(files));
  const requests: SeenRequest[] = [];
  const cutDone = new Set<string>();
  const pending = new Set<() => void>();
  const abort = new AbortController();

  const handler = (request: Request): Response => {
    const [, mode, name] = new URL(request.url).pathname.split("/");
    const range = request.headers.get("range");
    requests.push({ mode, name, range });
    const body = store.get(name);
    if (mode === "404" || !body) return new Response("not found", { status: 404 });
    if (mode === "html") {
      return new Response("<!DOCTYPE html><html><body>Quota exceeded</body></html>", {
        headers: { "content-type": "text/html" },
      });
    }
    if (mode === "htmlstream") {
      // No Content-Length: the size cannot be checked up front, only the first bytes.
      const page = new TextEncoder().encode(
        "<!DOCTYPE html><html><body>" + "x".repeat(BODY_PAD) + "</body></html>",
      );
      return new Response(ReadableStream.from([page]), { headers: { "content-type": "text/html" } });
    }
    if (mode === "wrong") {
      const wrong = body.slice();
      for (let i = 16; i < wrong.length; i += 7) wrong[i] ^= 0xff;
      return new Response(wrong);
    }
    if (mode === "stall") {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let release: () => void = () => {};
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(body.slice(0, 1024));
        },
        pull(controller) {
          return new Promise<void>((resolve) => {
            release = () => {
              clearTimeout(timer);
              pending.delete(release);
              try {
                controller.close();
              } catch { /* already closed */ }
              resolve();
            };
            pending.add(release);
            timer = setTimeout(release, 10_000);
          });
        },
        cancel() {
          release();
        },
      });
      return new Response(stream, { headers: { "content-length": String(body.length) } });
    }
    const cutting = (mode === "cut" || mode === "cutnorange") && !cutDone.has(`${mode}/${name}`);
    if (cutting) {
      cutDone.add(`${mode}/${name}`);
      const half = body.slice(0, Math.floor(body.length / 2));
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          controller.enqueue(half);
          await sleep(20);
          // Ends short of the announced Content-Length: the server drops the connection mid-body.
          controller.close();
        },
      });
      return new Response(stream, { headers: { "content-length": String(body.length) } });
    }
    const honourRange = mode === "ok" || mode === "cut" || mode === "slow";
    const match = range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    if (honourRange && match) {
      const start = Number(match[1]);
      // An open range (`bytes=N-`, what the downloader resumes with) or a closed one (`bytes=0-1023`).
      const end = match[2] === "" ? body.length - 1 : Math.min(Number(match[2]), body.length - 1);
      if (start >= body.length) return new Response(null, { status: 416 });
      return new Response(body.slice(start, end + 1), {
        status: 206,
        headers: { "content-range": `bytes ${start}-${end}/${body.length}` },
      });
    }
    if (mode === "slow") {
      let offset = 0;
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          await sleep(slowDelayMs);
          if (offset >= body.length) return controller.close();
          controller.enqueue(body.slice(offset, offset + 16384));
          offset += 16384;
        },
      });
      return new Response(stream, { headers: { "content-length": String(body.length) } });
    }
    return new Response(body as Uint8Array<ArrayBuffer>);
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, signal: abort.signal, onListen() {} }, handler);
  const { port } = server.addr as Deno.NetAddr;
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    files: store,
    async close() {
      for (const release of [...pending]) release();
      abort.abort();
      await server.finished;
    },
  };
}
