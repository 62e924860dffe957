/**
 * Distinct loopback source addresses for the attack lab. On Linux all of 127.0.0.0/8 is loopback, so the
 * lab can attack a loopback target "from" 127.a.b.c: each scenario is its own attacker, and alerts keyed
 * by address (`ip:127.a.b.c`) belong to one scenario, which makes time-to-alert exact.
 *
 * Node's fetch takes a `dispatcher`; the undici Agent class comes from the global dispatcher Node's own
 * fetch installs (the `undici.globalDispatcher.1` symbol undici documents for sharing it), so no second
 * copy of undici is loaded. Where any of this is unavailable the lab uses the default source address.
 */

/** What fetch accepts as `dispatcher` (undici's Dispatcher; opaque here). */
export interface Dispatcher {
  close(): Promise<void>;
}

type AgentConstructor = new (options: { localAddress?: string; connections?: number; keepAliveTimeout?: number }) => Dispatcher;

const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

let agentClass: AgentConstructor | undefined | null;

async function findAgentClass(): Promise<AgentConstructor | undefined> {
  if (agentClass !== undefined) return agentClass ?? undefined;
  try {
    // Node's fetch creates its global Agent lazily, on first use.
    await fetch('data:,a09');
    const global = (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER] as { constructor?: unknown } | undefined;
    const candidate = global?.constructor;
    agentClass = typeof candidate === 'function' && candidate.name === 'Agent' ? (candidate as AgentConstructor) : null;
  } catch {
    agentClass = null;
  }
  return agentClass ?? undefined;
}

/** An IPv4 loopback literal (127.0.0.0/8). */
export function isLoopbackV4(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** A dispatcher that connects from `address`, or undefined when the platform cannot. */
export async function dispatcherFrom(address: string): Promise<Dispatcher | undefined> {
  const Agent = await findAgentClass();
  if (Agent === undefined) return undefined;
  return new Agent({ localAddress: address, connections: 16, keepAliveTimeout: 2000 });
}

/**
 * Hands out loopback source addresses: 127.<run>.<scenario>.<target>. `run` is random per lab run, so a
 * second run against a long-lived collector does not fold into alerts the first one left open.
 */
export class SourceAddressPlan {
  readonly runOctet: number;

  constructor(random: () => number = Math.random) {
    this.runOctet = 16 + Math.floor(random() * 224);
  }

  /** Scenario 0 is the lab's own probe traffic; scenarios count from 1. */
  address(scenario: number, target: number): string {
    return `127.${this.runOctet}.${Math.min(255, scenario)}.${Math.min(254, target + 10)}`;
  }
}
