/**
 * The dialog state machine (RFC 3261 §12): a dialog is born early (from a 1xx with a To tag,
 * §12.1) or confirmed (from a 2xx), an early dialog is confirmed by a 2xx (§13.2.2.4) and any
 * dialog ends terminated (a non-2xx final to the initial INVITE, §12.3; BYE, §15).
 */
import { ConflictError } from '../../lib/index.js';

export type DialogState = 'early' | 'confirmed' | 'terminated';

const ALLOWED: Readonly<Record<DialogState, readonly DialogState[]>> = {
  early: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
};

export function canTransition(from: DialogState, to: DialogState): boolean {
  return ALLOWED[from].includes(to);
}

/** the one place that moves a dialog; an illegal move is a programming error and throws */
export function transition(from: DialogState, to: DialogState): DialogState {
  if (!canTransition(from, to)) throw new ConflictError(`illegal dialog transition ${from} -> ${to}`);
  return to;
}
