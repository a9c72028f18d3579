/* Hooks — to be built. */
export default function Hooks() {
  return <section class="view"><h1>Hooks</h1></section>;
}
