/**
 * UTC maintenance and snapshot windows as ElastiCache and DAX take them: a daily window
 * `hh24:mi-hh24:mi` and a weekly one `ddd:hh24:mi-ddd:hh24:mi`, either may wrap (past midnight,
 * past Saturday). Inputs are assumed to match DAILY_WINDOW_RE / MAINTENANCE_WINDOW_RE.
 */

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const DAY = 24 * 60;
const WEEK = 7 * DAY;

function minuteOfDay(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number);
  return h * 60 + m;
}

/** Length of a daily window in minutes (`23:30-00:30` is 60). */
export function dailyWindowMinutes(window: string): number {
  const [from, to] = window.split("-").map(minuteOfDay);
  return (to - from + DAY) % DAY;
}

/** Start (minute of the week, Sunday 00:00 = 0) and length in minutes of a weekly window. */
function weekly(window: string): { start: number; minutes: number } {
  const [from, to] = window.split("-").map((t) => {
    const [day, ...hhmm] = t.split(":");
    return DAYS.indexOf(day as (typeof DAYS)[number]) * DAY + minuteOfDay(hhmm.join(":"));
  });
  return { start: from, minutes: (to - from + WEEK) % WEEK };
}

/** Length of a weekly window in minutes (`sat:23:00-sun:01:00` is 120). */
export function weeklyWindowMinutes(window: string): number {
  return weekly(window).minutes;
}

/**
 * The first day (`sun`…`sat`) on which the daily window overlaps the weekly one, or undefined when
 * they never do. Windows are half-open: `03:00-05:00` and `sun:05:00-sun:07:00` only touch.
 */
export function dailyOverlapsWeekly(daily: string, weeklyWindow: string): string | undefined {
  const start = minuteOfDay(daily.split("-")[0]);
  const length = dailyWindowMinutes(daily);
  const w = weekly(weeklyWindow);
  for (let d = 0; d < DAYS.length; d++) {
    const from = d * DAY + start;
    // the weekly window seen from this week and its neighbours, so wrapping windows compare as well
    if ([-WEEK, 0, WEEK].some((shift) => from < w.start + shift + w.minutes && w.start + shift < from + length)) return DAYS[d];
  }
  return undefined;
}
