/* Workflow — to be built. */
export default function WorkflowPage() {
  return <section class="view"><h1>Workflow</h1></section>;
}
