// The Firefox build (npm run build:firefox) as Mozilla's own linter reads it: an MV3 add-on with
// background scripts and a gecko id that web-ext lint passes with no error and no warning.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIREFOX_ADDON_ID } from '../../shared/constants';
import { REPO } from '../support/stack';

const DIST = path.join(REPO, 'extension', 'dist-firefox');

describe('the Firefox build', () => {
  it('is MV3 with background scripts and the gecko id', () => {
    const manifest = JSON.parse(readFileSync(path.join(DIST, 'manifest.json'), 'utf8'));
    expect(manifest.manifest_version).toBe(3);
    expect(manifest.background.scripts?.length).toBeGreaterThan(0);
    expect(manifest.background.service_worker).toBeUndefined();
    expect(manifest.browser_specific_settings.gecko.id).toBe(FIREFOX_ADDON_ID);
  });

  it('passes web-ext lint with no error and no warning', () => {
    const r = spawnSync(path.join(REPO, 'node_modules', '.bin', 'web-ext'), ['lint', '--source-dir', DIST, '--output', 'json'], { encoding: 'utf8', timeout: 60_000 });
    const report = JSON.parse(r.stdout) as { summary: { errors: number; warnings: number }; errors: unknown[]; warnings: unknown[] };
    expect({ errors: report.errors, warnings: report.warnings }).toEqual({ errors: [], warnings: [] });
    expect(report.summary).toMatchObject({ errors: 0, warnings: 0 });
  });
});
