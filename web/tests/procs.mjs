// The processes of one headless Chromium, found through /proc by its --user-data-dir: the page
// tests and web/bench.mjs sum the renderers' memory, web/bench.mjs also their CPU time per thread.
import fs from 'node:fs';

/** `{pid, ppid, type, cmd, stat}` of the browser with profile `udd` and all its descendants
 * (`stat`: the fields of /proc/PID/stat after the command name; `type`: Chromium's --type, or
 * "browser"). */
export function browserProcesses(udd) {
  const procs = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const stat = s.slice(s.lastIndexOf(')') + 2).split(' ');
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
      procs.push({ pid: Number(d), ppid: Number(stat[1]), type: (/--type=([a-z-]+)/.exec(cmd) || [null, 'browser'])[1], cmd, stat });
    } catch { /* gone */ }
  }
  const root = procs.find((p) => p.cmd.includes(`--user-data-dir=${udd}`) && !p.cmd.includes('--type='));
  if (!root) return [];
  const mine = new Set([root.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) if (!mine.has(p.pid) && mine.has(p.ppid)) { mine.add(p.pid); grew = true; }
  }
  return procs.filter((p) => mine.has(p.pid));
}

/** Resident memory (KiB) of the renderer processes of the browser using profile `udd`. */
export function rendererRssKiB(udd) {
  let total = 0;
  for (const p of browserProcesses(udd)) {
    if (p.type !== 'renderer') continue;
    try {
      const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p.pid}/status`, 'utf8'));
      if (m) total += Number(m[1]);
    } catch { /* gone */ }
  }
  return total;
}
