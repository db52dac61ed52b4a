// JSON-RPC 2.0 envelopes: classifying what arrived and building what goes back. Pure.
import { AppError, type RpcError, toRpcError } from './errors';

export type RpcId = string | number;

export interface RpcRequest {
  jsonrpc: '2.0';
  id: RpcId;
  method: string;
  params?: unknown;
}
export interface RpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: unknown;
}
export type RpcResponse =
  | { jsonrpc: '2.0'; id: RpcId; result: unknown }
  | { jsonrpc: '2.0'; id: RpcId | null; error: RpcError };

export type Incoming =
  | { kind: 'request'; message: RpcRequest }
  | { kind: 'notification'; message: RpcNotification }
  | { kind: 'response'; message: RpcResponse }
  /** Not a JSON-RPC 2.0 message; `id` is echoed when one could be read. */
  | { kind: 'invalid'; id: RpcId | null; reason: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isId(v: unknown): v is RpcId {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

export function classifyIncoming(value: unknown): Incoming {
  if (!isObject(value)) return { kind: 'invalid', id: null, reason: 'a JSON-RPC message must be a JSON object' };
  const id = isId(value.id) ? value.id : null;
  if (value.jsonrpc !== '2.0') return { kind: 'invalid', id, reason: 'jsonrpc must be "2.0"' };
  if ('method' in value) {
    if (typeof value.method !== 'string' || value.method === '') return { kind: 'invalid', id, reason: 'method must be a non-empty string' };
    if ('params' in value && value.params !== undefined && !isObject(value.params) && !Array.isArray(value.params)) {
      return { kind: 'invalid', id, reason: 'params must be an object or an array' };
    }
    if (!('id' in value)) return { kind: 'notification', message: value as unknown as RpcNotification };
    if (!isId(value.id)) return { kind: 'invalid', id: null, reason: 'id must be a string or a number' };
    return { kind: 'request', message: value as unknown as RpcRequest };
  }
  if ('result' in value || 'error' in value) {
    if (!isId(value.id) && value.id !== null) return { kind: 'invalid', id: null, reason: 'a response needs an id' };
    if ('error' in value && !isObject(value.error)) return { kind: 'invalid', id, reason: 'error must be an object' };
    return { kind: 'response', message: value as unknown as RpcResponse };
  }
  return { kind: 'invalid', id, reason: 'neither a request (method) nor a response (result or error)' };
}

export function resultResponse(id: RpcId, result: unknown): RpcResponse {
  return { jsonrpc: '2.0', id, result };
}

export function errorResponse(id: RpcId | null, error: AppError): RpcResponse {
  return { jsonrpc: '2.0', id, error: toRpcError(error) };
}

export function notification(method: string, params: unknown): RpcNotification {
  return { jsonrpc: '2.0', method, params };
}

export function request(id: RpcId, method: string, params?: unknown): RpcRequest {
  return params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
}
