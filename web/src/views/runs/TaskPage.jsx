/* Task — to be built. */
export default function TaskPage() {
  return <section class="view"><h1>Task</h1></section>;
}
