/**
 * CPU seconds used so far by this process and the child processes it waited for (Verilator, the C++
 * compiler, the simulations): on a shared, loaded machine wall time says little about the work itself,
 * so the verification scripts report both. Children's time comes from /proc/self/stat (Linux); elsewhere
 * only this process's time is counted.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/self/stat (USER_HZ, 100 on Linux). */
const TICKS = 100;

export function cpuSeconds(): number {
  const self = process.cpuUsage();
  let children = 0;
  try {
    // Fields after the parenthesised command name: cutime and cstime are the 14th and 15th.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    children = (Number(fields[13]) + Number(fields[14])) / TICKS;
  } catch {
    children = 0;
  }
  return (self.user + self.system) / 1e6 + children;
}
