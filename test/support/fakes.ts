// Small fakes of the host's seams for unit tests: an Http that plays back canned responses and
// records what it was asked, and a Log that keeps its lines for assertions.
import { AppError } from '../../shared/errors';
import type { Http, HttpRequest, HttpResponse, Log, LogFields } from '../../host/src/deps';

/** Answers with the given responses in order; past the last one, as an unreachable server does. */
export class FakeHttp implements Http {
  readonly requests: HttpRequest[] = [];
  constructor(private readonly responses: HttpResponse[]) {}
  async request(req: HttpRequest): Promise<HttpResponse> {
    this.requests.push(req);
    const res = this.responses.shift();
    if (!res) throw new AppError('transient', `Could not reach ${new URL(req.url).host}: ECONNRESET`, { advice: 'retry', retryable: true });
    return res;
  }
}

export class FakeLog implements Log {
  readonly lines: { level: string; msg: string; fields?: LogFields }[] = [];
  debug(msg: string, fields?: LogFields) { this.lines.push({ level: 'debug', msg, fields }); }
  info(msg: string, fields?: LogFields) { this.lines.push({ level: 'info', msg, fields }); }
  warn(msg: string, fields?: LogFields) { this.lines.push({ level: 'warn', msg, fields }); }
  error(msg: string, fields?: LogFields) { this.lines.push({ level: 'error', msg, fields }); }
  child(): Log { return this; }
}
