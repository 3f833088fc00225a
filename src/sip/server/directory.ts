/**
 * What the SIP services (registrar, proxy) need to know about subscribers. The SIP layer does
 * not import the control plane (DESIGN.md): the composition root adapts the provisioning store
 * to this port, with a cache in front of it (registrations arrive by the thousand per second).
 */
export interface SubscriberDirectory {
  /** is this host (a domain, or one of the server's own addresses/names) served by us? */
  isLocalDomain(host: string): Promise<boolean>;
  /** the digest realm for a local domain (the domain itself unless configured otherwise) */
  realmFor(domain: string): string;
  /** HA1 of user@domain for the digest hash (RFC 7616 §3.4.2); undefined when there is no such user */
  ha1(user: string, domain: string, hash: 'MD5' | 'SHA-256'): Promise<string | undefined>;
  userExists(user: string, domain: string): Promise<boolean>;
  /**
   * The whole directory as it is in memory right now, when it is (preloaded and not stale since),
   * to answer without a promise: a registration asks twice and a REGISTER storm has no time for
   * microtask hops. Undefined: ask the methods above.
   */
  held?(): HeldSubscribers | undefined;
}

/** A directory that answers at once (see SubscriberDirectory.held). */
export interface HeldSubscribers {
  isLocalDomain(host: string): boolean;
  ha1(user: string, domain: string, hash: 'MD5' | 'SHA-256'): string | undefined;
}
