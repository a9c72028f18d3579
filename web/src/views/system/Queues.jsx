/* Queues — to be built. */
export default function Queues() {
  return <section class="view"><h1>Queues</h1></section>;
}
