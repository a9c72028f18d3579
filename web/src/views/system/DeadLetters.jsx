/* Dead letters — to be built. */
export default function DeadLetters() {
  return <section class="view"><h1>Dead letters</h1></section>;
}
