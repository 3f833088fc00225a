export { Recorder } from './recorder.js';
export type { RecorderOptions, RecordingResult, RecorderState, RecorderEvents } from './recorder.js';
export { RecordingWriter, repairPlan } from './recording-writer.js';
export type { FileWrite, RecordingFormat, RecordingWriterOptions } from './recording-writer.js';
export { recoverSpool, parseSidecar, spoolPaths } from './spool.js';
export type { SpoolSidecar, RecoveredRecording, SpoolRecoveryReport } from './spool.js';
