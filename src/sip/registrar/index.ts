export type { Binding, BindingSource, LocationStore, ExpiredBindings, ExpiringLocationStore } from './location-store.js';
export { isExpiringLocationStore } from './location-store.js';
export { MemoryLocationStore, copyBinding, storedBinding, type MemoryLocationStoreOptions, type LocationChange } from './memory-location-store.js';
export { RedisLocationStore, type RedisLocationStoreOptions } from './redis-location-store.js';
export { Registrar, type RegistrarOptions, type AuthFailureLimits } from './registrar.js';
export { registrationsView, type RegistrationsView, type RegistrationsViewOptions, type BindingView } from './registrations-view.js';
export {
  REGISTRATIONS_TOPIC,
  parseRegistrationEvent,
  registrationEvent,
  type RegistrationEvent,
  type RegistrationEventType,
} from './registration-events.js';
export { aorOf, splitAor } from './aor.js';
export { parseContacts, applyContacts, contactHeaderValue, type RequestedContact, type ParsedContacts, type BindingChange } from './binding-update.js';
export { FailureThrottle, type FailureThrottleOptions } from './failure-throttle.js';
export { SourceRateLimiter, type SourceRateLimiterOptions } from './source-rate-limiter.js';
