export type { Binding, BindingSource, LocationStore } from './location-store.js';
