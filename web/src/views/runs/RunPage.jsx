/* Run — to be built. */
export default function RunPage() {
  return <section class="view"><h1>Run</h1></section>;
}
