/* Audit log — to be built. */
export default function Audit() {
  return <section class="view"><h1>Audit log</h1></section>;
}
