/** Dialogs and the UAS core checks (RFC 3261 §8.2, §11, §12, §14). */
export { canTransition, transition, type DialogState } from './dialog-state.js';
export {
  Dialog,
  dialogKey,
  type DialogId,
  type DialogOptions,
  type DialogRole,
  type InDialogRequestOptions,
  type RequestVerdict,
} from './dialog.js';
export { DialogStore } from './dialog-store.js';
export {
  KNOWN_METHODS,
  checkUasRequest,
  optionsResponse,
  type OptionsResponseOptions,
  type UasCheckOptions,
} from './uas-checks.js';
