/* Runs — to be built. */
export default function RunList() {
  return <section class="view"><h1>Runs</h1></section>;
}
