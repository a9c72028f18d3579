/* Schedules — to be built. */
export default function Schedules() {
  return <section class="view"><h1>Schedules</h1></section>;
}
