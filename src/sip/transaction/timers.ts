/**
 * Transaction timer values (RFC 3261 §17.1.1.1, Table 4 in Appendix A; RFC 6026 §8.7, §8.11).
 * Everything derives from T1/T2/T4 unless overridden, so a test or a LAN deployment can shrink
 * T1 and keep the ratios the RFC depends on.
 */
export interface TimerSettings {
  /** RTT estimate, default 500 ms (§17.1.1.1) */
  t1: number;
  /** maximum retransmit interval for non-INVITE requests and INVITE responses, default 4 s */
  t2: number;
  /** maximum time a message stays in the network, default 5 s */
  t4: number;
  /** Timer D over unreliable transports: "at least 32 seconds" (§17.1.1.2) */
  timerD: number;
  /** an INVITE server transaction sends 100 Trying if the TU has not answered within this (§17.2.1) */
  invite100Delay: number;
  /**
   * A non-INVITE server transaction over an unreliable transport sends 100 Trying on its own once
   * the client's Timer E has reached T2 (RFC 4320 §4.1) if the TU is still silent. false disables it.
   */
  nonInvite100: boolean;
}

export const DEFAULT_TIMERS: TimerSettings = {
  t1: 500,
  t2: 4000,
  t4: 5000,
  timerD: 32_000,
  invite100Delay: 200,
  nonInvite100: true,
};

export function resolveTimers(partial: Partial<TimerSettings> | undefined): TimerSettings {
  return partial === undefined ? DEFAULT_TIMERS : { ...DEFAULT_TIMERS, ...partial };
}

/**
 * RFC 4320 §4.1: no 100 to a non-INVITE request over an unreliable transport "before the amount
 * of time it takes a client transaction's Timer E to be reset to T2". Timer E starts at T1 and
 * doubles at each firing (§17.1.2.2), so that instant is the sum of the intervals before the
 * interval reaches T2: 500 + 1000 + 2000 = 3500 ms with the defaults.
 */
export function nonInvite100Earliest(t: Pick<TimerSettings, 't1' | 't2'>): number {
  let elapsed = 0;
  let interval = t.t1;
  // guard against a zero or negative T1 in configuration: never loop forever
  for (let i = 0; i < 64 && interval < t.t2; i++) {
    elapsed += interval;
    interval = Math.min(interval * 2, t.t2);
  }
  return elapsed;
}
