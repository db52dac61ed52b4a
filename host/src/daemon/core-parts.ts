// How the daemon's parts connect: the refresher feeds tokens to the inbox service and EWS
// streaming, realtime decides how counts arrive, the records persist what each part must
// remember, and every change flows back to the core through one hook each. Built once, by
// DaemonCore's constructor; the hooks run later, never during construction.
import type { AccountInfo } from '@azure/msal-node';
import type { Backend, ConsentCompleteResult, InboxCount, StatusResult } from '../../../shared/protocol';
import type { MsalClient } from '../auth/msal-client';
import type { TokenStore } from '../auth/token-store';
import type { Config } from '../config/config';
import type { Paths } from '../config/paths';
import type { Clock, FileSystem, Http, HttpStream, Log } from '../deps';
import type { LogPause } from '../io/log';
import { EwsStreaming } from '../mailbox/ews-streaming';
import { InboxService, type MailboxAccount } from '../mailbox/inbox-service';
import { AccountRecords } from './account-records';
import { Consents, type SignInClient } from './consents';
import { NotifyCommand, type Runner } from './notify-command';
import { Realtime } from './realtime';
import { Refresher, type RefresherOptions } from './refresher';
import { Subscribers } from './subscribers';

export interface CoreDeps {
  config: Config;
  paths: Paths;
  clock: Clock;
  fs: FileSystem;
  http: Http;
  stream: HttpStream;
  log: Log;
  /** What the core needs of the token cache file. */
  store: Pick<TokenStore, 'keyInfo' | 'keyError' | 'readRaw' | 'readableCopy' | 'flush'>;
  /** MSAL: the grants in its cache, their tokens, and sign-in. */
  msal: Pick<MsalClient, 'accounts' | 'remove' | 'acquire'> & SignInClient;
  version: string;
  startedAt: number;
  /** Why logging is paused (a full disk); null or absent while it works. */
  logHealth?: () => LogPause | null;
  /** Runs notifyCommand (default: spawns it). */
  runNotify?: Runner;
  /** The refresher's timing (tests shorten it; default: the product's). */
  refresher?: Partial<RefresherOptions>;
}

/** What the parts tell the core. */
export interface PartsHooks {
  signedIn(info: AccountInfo): Promise<ConsentCompleteResult>;
  status(): StatusResult;
  /** Something status shows may have changed. */
  statusChanged(): void;
  refreshed(accountId: string): void;
  counted(accountId: string, count: InboxCount): void;
  backendChanged(accountId: string, backend: Backend): void;
  /** EWS streaming announced a change in this inbox. */
  changeAnnounced(accountId: string): Promise<void>;
  /** The accounts whose grant is usable. */
  live(): MailboxAccount[];
  countQuietly(accountId: string, maxAgeMs: number): Promise<void>;
}

export interface Parts {
  consents: Consents;
  subscribers: Subscribers;
  records: AccountRecords;
  refresher: Refresher;
  inbox: InboxService;
  notifier: NotifyCommand;
  realtime: Realtime;
}

export function connectParts(deps: CoreDeps, hooks: PartsHooks): Parts {
  const { clock, log, http, config } = deps;
  const consents = new Consents({ ...deps, signedIn: hooks.signedIn, changed: hooks.statusChanged });
  const records = new AccountRecords({ file: `${deps.paths.stateDir}/accounts.json`, log, fs: deps.fs });
  const refresher = new Refresher({ clock, log: log.child({ component: 'refresher' }), source: deps.msal, onChange: hooks.refreshed }, deps.refresher);
  const inbox = new InboxService({
    clock, log: log.child({ component: 'inbox' }), http, config, tokens: refresher, records,
    onCount: hooks.counted,
    onBackendChange: hooks.backendChanged,
  });
  const notifier = new NotifyCommand({ argv: config.notifyCommand, log: log.child({ component: 'notify' }), memory: records, run: deps.runNotify, clock });
  const streaming = new EwsStreaming({
    clock, log: log.child({ component: 'streaming' }), http, stream: deps.stream, ewsUrl: config.ewsUrl, tokens: refresher,
    onChange: hooks.changeAnnounced,
    onState: hooks.statusChanged,
  });
  const subscribers: Subscribers = new Subscribers({ log, status: hooks.status, changed: () => realtime.sync() });
  const realtime: Realtime = new Realtime({
    clock, log: log.child({ component: 'realtime' }), streaming, streamingEnabled: config.realtime, listeningPollMs: config.pollIntervalSeconds * 1000,
    live: hooks.live,
    backend: (id) => inbox.backend(id).active,
    count: (a, maxAgeMs) => hooks.countQuietly(a.id, maxAgeMs),
    listeners: () => subscribers.counts(),
  });
  return { consents, subscribers, records, refresher, inbox, notifier, realtime };
}
