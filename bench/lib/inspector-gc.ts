// inspector-gc.ts forces a full GC in a process started with --inspect, to tell live memory from garbage not yet collected.
import { WebSocket } from 'undici';

/** Asks the process whose inspector listens on 127.0.0.1:`port` to collect garbage; resolves when it has. */
export async function forceGc(port: number, timeoutMs = 30_000): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(5000) });
  const targets = (await res.json()) as { webSocketDebuggerUrl?: string }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on 127.0.0.1:${port}`);
  const ws = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`HeapProfiler.collectGarbage: no answer in ${timeoutMs} ms`)), timeoutMs);
      ws.addEventListener('error', () => {
        clearTimeout(timer);
        reject(new Error(`inspector websocket ${url} failed`));
      });
      ws.addEventListener('open', () => ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })));
      ws.addEventListener('message', (event) => {
        const reply = JSON.parse(String(event.data)) as { id?: number; error?: { message: string } };
        if (reply.id !== 1) return;
        clearTimeout(timer);
        if (reply.error) reject(new Error(`HeapProfiler.collectGarbage: ${reply.error.message}`));
        else resolve();
      });
    });
  } finally {
    ws.close();
  }
}
