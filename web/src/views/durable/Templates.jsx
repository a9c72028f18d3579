/* Templates — to be built. */
export default function Templates() {
  return <section class="view"><h1>Templates</h1></section>;
}
