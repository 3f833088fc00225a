/**
 * Dialogs by id (RFC 3261 §12). An incoming request names its dialog as (Call-ID, To tag, From
 * tag) from our point of view (§12.2.2); a response to our request as (Call-ID, From tag, To tag).
 */
import type { SipRequest, SipResponse } from '../message/index.js';
import { dialogKey, type Dialog, type DialogId } from './dialog.js';

export class DialogStore {
  readonly #dialogs = new Map<string, Dialog>();

  get size(): number {
    return this.#dialogs.size;
  }

  /** files the dialog and drops it when it terminates; a dialog with the same id is replaced */
  add(dialog: Dialog): void {
    if (dialog.state === 'terminated') return;
    const key = dialogKey(dialog.id);
    this.#dialogs.set(key, dialog);
    dialog.onTerminated((d) => {
      if (this.#dialogs.get(key) === d) this.#dialogs.delete(key);
    });
  }

  get(id: DialogId): Dialog | undefined {
    return this.#dialogs.get(dialogKey(id));
  }

  remove(id: DialogId): boolean {
    return this.#dialogs.delete(dialogKey(id));
  }

  /** the dialog an incoming in-dialog request belongs to (§12.2.2); undefined without a To tag */
  findForRequest(req: SipRequest): Dialog | undefined {
    const callId = req.callId;
    const localTag = req.toTag;
    if (callId === undefined || localTag === undefined) return undefined;
    return this.#dialogs.get(dialogKey({ callId, localTag, remoteTag: req.fromTag ?? '' }));
  }

  /** the dialog a response to one of our requests belongs to (§12.1.2, forked early dialogs differ by To tag) */
  findForResponse(res: SipResponse): Dialog | undefined {
    const callId = res.callId;
    const localTag = res.fromTag;
    const remoteTag = res.toTag;
    if (callId === undefined || localTag === undefined || remoteTag === undefined) return undefined;
    return this.#dialogs.get(dialogKey({ callId, localTag, remoteTag }));
  }

  dialogs(): IterableIterator<Dialog> {
    return this.#dialogs.values();
  }

  /** terminates every dialog (cancelling their timers) and empties the store; idempotent */
  close(): void {
    for (const d of [...this.#dialogs.values()]) d.terminate();
    this.#dialogs.clear();
  }
}
