/* Workflows — to be built. */
export default function Workflows() {
  return <section class="view"><h1>Workflows</h1></section>;
}
