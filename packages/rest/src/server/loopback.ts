const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '::ffff:127.0.0.1']);

/** True for host names and addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const name = host.trim().toLowerCase();
  return LOOPBACK_NAMES.has(name) || /^127(\.\d{1,3}){3}$/.test(name) || /^::ffff:127(\.\d{1,3}){3}$/.test(name);
}

/** The host name of a Host header or an Origin, or undefined when it does not parse. */
export function hostnameOf(value: string): string | undefined {
  try {
    const hostname = new URL(value.includes('://') ? value : `http://${value}`).hostname;
    return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  } catch {
    return undefined;
  }
}
