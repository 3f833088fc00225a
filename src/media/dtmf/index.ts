export {
  MAX_SEGMENT_DURATION,
  TELEPHONE_EVENT_SIZE,
  digitForEvent,
  eventForDigit,
  parseTelephoneEvent,
  serializeTelephoneEvent,
  type TelephoneEvent,
} from './rfc4733-payload.js';
export {
  Rfc4733Receiver,
  type Rfc4733DtmfEvent,
  type Rfc4733EndCause,
  type Rfc4733ReceiverOptions,
  type TelephoneEventPacket,
} from './rfc4733-receiver.js';
export {
  Rfc4733Sender,
  planTelephoneEvent,
  type Rfc4733OutgoingPacket,
  type Rfc4733SenderOptions,
  type Rfc4733Timing,
} from './rfc4733-sender.js';
export { InbandDtmfDetector, type InbandDtmfDetectorOptions } from './inband-dtmf-detector.js';
