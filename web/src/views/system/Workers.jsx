/* Workers — to be built. */
export default function Workers() {
  return <section class="view"><h1>Workers</h1></section>;
}
