// What the extension's pages and its service worker say to each other: the requests of the
// flat handler table, the reply envelope (errors cross as plain data, never as thrown objects),
// and the View the popup renders from. Types only, plus the envelope helpers.
import type { ConsentCompleteResult, StatusResult, TokensViewResult, InboxCount } from '../../../shared/protocol';
import { AppError, type ErrorCode, type ErrorData } from '../../../shared/errors';

/** An AppError as data: what crosses runtime messaging and storage. */
export interface WireError extends ErrorData {
  message: string;
}

/** The service worker's link to the companion (native host + daemon). */
export type Connection =
  | { kind: 'connecting' }
  | { kind: 'connected' }
  /** nextAttemptAt: when the service worker tries again on its own (null: only when asked). */
  | { kind: 'failed'; error: WireError; nextAttemptAt: number | null };

/** How to install the companion in the browser the extension runs in. */
export interface InstallHint {
  /** e.g. `ews-daemon install --browser chromium` (the installed command; `npx` could fetch an unrelated package of that name). */
  command: string;
  /** The same from a clone of the repository. */
  fromClone: string;
  browserFlag: string;
}

/** The outcome of the last sign-in the extension started, for the popup to show once. */
export type ConsentNotice =
  | { at: number; kind: 'signed-in'; account: string }
  | { at: number; kind: 'admin-consented'; tenant: string }
  | { at: number; kind: 'failed'; error: WireError };

/** One snapshot: everything the popup draws. */
export interface View {
  connection: Connection;
  status: StatusResult | null;
  /** When `status` was last received from the daemon. */
  statusAt: number | null;
  consent: ConsentNotice | null;
  /** Sign-in tabs the extension has open. */
  pendingConsents: number;
  install: InstallHint;
}

export type Request =
  | { type: 'status' }
  | { type: 'signIn'; loginHint?: string }
  | { type: 'signInAdmin' }
  | { type: 'refresh'; account?: string }
  | { type: 'signOut'; account?: string }
  | { type: 'tokens'; account?: string }
  | { type: 'completeConsent'; url: string };

export type RequestType = Request['type'];

export interface Replies {
  status: View;
  signIn: { tabId: number };
  signInAdmin: { tabId: number };
  refresh: InboxCount;
  signOut: { removed: string[] };
  tokens: TokensViewResult;
  completeConsent: ConsentCompleteResult;
}

export type Reply<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** The name of the long-lived port the popup opens to receive View updates. */
export const VIEW_PORT = 'view';
/** What the service worker posts on the view port. */
export interface ViewMessage {
  type: 'view';
  view: View;
}

export function toWireError(e: unknown): WireError {
  if (e instanceof AppError) return { message: e.message, ...e.data };
  const message = e instanceof Error ? e.message : String(e);
  return { message, code: 'internal', advice: 'This is a bug in the extension; the service worker console has the detail.', retryable: false };
}

export function fromWireError(e: WireError): AppError {
  const { message, code, ...fields } = e;
  return new AppError(code as ErrorCode, message, fields);
}

export function isRequest(value: unknown): value is Request {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
