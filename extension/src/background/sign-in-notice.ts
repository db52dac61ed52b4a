// One desktop notification when an account moves to "needs sign-in": its advice, and a Sign in
// button (or a click on the notification, where buttons are not supported: Firefox) that starts
// sign-in for that account. Guarantees: one notification per account per move (an account that
// still needs sign-in is not announced again; one that recovered and lapses again is); the
// notification goes away once the account is signed in. The text never holds a token.
import type { StatusResult } from '../../../shared/protocol';

/** The subset of browser.notifications used here (Chromium and Firefox alike). */
export interface NotificationsApi {
  create(id: string, options: { type: 'basic'; iconUrl: string; title: string; message: string; buttons?: { title: string }[]; requireInteraction?: boolean }): Promise<string>;
  clear(id: string): Promise<boolean>;
  onButtonClicked?: { addListener(fn: (id: string, index: number) => void): void };
  onClicked: { addListener(fn: (id: string) => void): void };
}

const PREFIX = 'needs-sign-in:';

export class SignInNotice {
  private readonly shown = new Set<string>();

  constructor(
    private readonly deps: { notifications: NotificationsApi; iconUrl: string; signIn(loginHint: string): void; log(message: string, detail?: unknown): void },
  ) {
    const start = (id: string) => {
      if (!id.startsWith(PREFIX)) return;
      deps.signIn(id.slice(PREFIX.length));
      void deps.notifications.clear(id);
    };
    deps.notifications.onButtonClicked?.addListener((id) => start(id));
    deps.notifications.onClicked.addListener(start);
  }

  /** Compares with what was announced: new needs-consent accounts get a notification, recovered ones lose theirs. */
  update(status: StatusResult): void {
    const needing = new Map(status.accounts.flatMap((a) => (a.state.kind === 'needs-consent' ? [[a.username, a.state.error.advice] as const] : [])));
    for (const [username, advice] of needing) {
      if (this.shown.has(username)) continue;
      this.shown.add(username);
      void this.show(username, advice);
    }
    for (const username of [...this.shown]) {
      if (needing.has(username)) continue;
      this.shown.delete(username);
      void this.deps.notifications.clear(PREFIX + username);
    }
  }

  private async show(username: string, advice: string): Promise<void> {
    const base = { type: 'basic' as const, iconUrl: this.deps.iconUrl, title: `ews-daemon: ${username} needs sign-in`, message: advice, requireInteraction: true };
    try {
      await this.deps.notifications.create(PREFIX + username, { ...base, buttons: [{ title: 'Sign in' }] });
    } catch {
      // Firefox has no notification buttons (MDN: notifications.NotificationOptions); a click on it signs in.
      await this.deps.notifications.create(PREFIX + username, { ...base, message: `${advice} Click to sign in.`, requireInteraction: undefined }).catch((e: unknown) => this.deps.log('showing the sign-in notification failed', String(e)));
    }
  }
}
