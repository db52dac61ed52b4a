import { describe, expect, it } from 'vitest';
import type { TokenEntry } from '../../../shared/protocol';
import { groupEntries } from './group-entries';

const e = (kind: TokenEntry['kind'], homeAccountId?: string, username?: string): TokenEntry => ({ kind, key: `${kind}-${homeAccountId}`, homeAccountId, username });

describe('groupEntries', () => {
  it('groups by account in a fixed order, with the application last', () => {
    const groups = groupEntries([
      e('app-metadata'),
      e('refresh-token', 'b.t'),
      e('access-token', 'a.t'),
      e('account', 'a.t', 'alice@contoso.example'),
      e('id-token', 'a.t'),
    ]);
    expect(groups.map((g) => g.title)).toEqual(['alice@contoso.example', 'b.t', 'Application']);
    expect(groups[0]!.entries.map((x) => x.kind)).toEqual(['account', 'id-token', 'access-token']);
  });
});
