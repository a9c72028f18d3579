/* Events and subscriptions — to be built. */
export default function Subscriptions() {
  return <section class="view"><h1>Events and subscriptions</h1></section>;
}
