import { describe, expect, it } from 'vitest';
import { AppError, type ErrorCode } from '../../../shared/errors';
import { classifyFailure, fromErrorInfo, toAppError, toErrorInfo, type FailureKind } from './refresh-outcome';

const err = (code: ErrorCode, retryable = false) => new AppError(code, 'm', { advice: 'a', retryable });

describe('classifyFailure', () => {
  it.each<[ErrorCode, boolean, FailureKind]>([
    ['transient', true, 'transitory'],
    ['throttled', true, 'transitory'],
    ['internal', false, 'transitory'],
    ['timeout', false, 'transitory'],
    ['needs_consent', false, 'verdict'],
    ['mfa_required', false, 'verdict'],
    ['conditional_access', false, 'verdict'],
    ['admin_consent_required', false, 'verdict'],
    ['user_not_assigned', false, 'verdict'],
    ['consent_denied', false, 'verdict'],
    ['scope_missing', false, 'verdict'],
    ['no_account', false, 'verdict'],
    ['app_misconfigured', false, 'config'],
    ['credential_invalid', false, 'config'],
    ['pkce_mismatch', false, 'config'],
    ['config_invalid', false, 'config'],
    ['needs_consent', true, 'transitory'], // the source said it may pass: believe it
  ])('treats %s (retryable %s) as %s', (code, retryable, kind) => {
    expect(classifyFailure(err(code, retryable))).toBe(kind);
  });
});

describe('error round trip', () => {
  it('gives a caller back the stored code, message, advice and AADSTS number', () => {
    const original = new AppError('user_not_assigned', 'AADSTS50105: not assigned.', { advice: 'Ask an admin.', retryable: false, aadsts: 50105, link: 'https://example.test' });
    const info = toErrorInfo(original, 42);
    expect(info).toEqual({ code: 'user_not_assigned', message: 'AADSTS50105: not assigned.', advice: 'Ask an admin.', retryable: false, aadsts: 50105, link: 'https://example.test', at: 42 });
    const again = fromErrorInfo(info);
    expect(again.message).toBe(original.message);
    expect(again.data).toEqual(original.data);
  });

  it('wraps something that is not an AppError as a retryable internal error', () => {
    const e = toAppError(new TypeError('boom'));
    expect(e.data).toMatchObject({ code: 'internal', retryable: true });
    expect(e.cause).toBeInstanceOf(TypeError);
  });
});
