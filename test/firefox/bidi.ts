// A minimal WebDriver BiDi client over undici's WebSocket, for driving a real Firefox in tests
// (Playwright's Firefox needs its own patched build). Commands resolve with their result or
// reject with the browser's error and message; events go to the handlers registered with on().
import { WebSocket } from 'undici';

/** How long one command may take before the test is told which command hung, in ms. */
const COMMAND_TIMEOUT_MS = 15_000;

type EventHandler = (params: Record<string, unknown>) => void;

interface Waiting {
  method: string;
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class Bidi {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private readonly handlers = new Map<string, EventHandler[]>();

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (e) => this.onMessage(String(e.data)));
    ws.addEventListener('close', () => this.failAll(new Error('the WebDriver BiDi connection closed')));
  }

  static async connect(url: string): Promise<Bidi> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error(`cannot open WebDriver BiDi at ${url}`)), { once: true });
    });
    return new Bidi(ws);
  }

  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${method} had no answer within ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      this.waiting.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  on(event: string, handler: EventHandler): void {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler]);
  }

  close(): void {
    this.ws.close();
  }

  private onMessage(text: string): void {
    const msg = JSON.parse(text) as { id?: number; type: string; method?: string; params?: Record<string, unknown>; result?: unknown; error?: string; message?: string };
    if (msg.type === 'event' && msg.method) {
      for (const h of this.handlers.get(msg.method) ?? []) h(msg.params ?? {});
      return;
    }
    const w = msg.id === undefined ? undefined : this.waiting.get(msg.id);
    if (!w) return;
    this.waiting.delete(msg.id!);
    clearTimeout(w.timer);
    if (msg.type === 'error') w.reject(new Error(`${w.method}: ${msg.error}: ${msg.message}`));
    else w.resolve(msg.result);
  }

  private failAll(e: Error): void {
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(e);
    }
    this.waiting.clear();
  }
}
