/*
 * Empty — what a list shows when it has nothing.
 *   children (or message): the sentence; e.g. <Empty>No runs yet.</Empty>
 */
export default function Empty({ message, children }) {
  return <div class="empty" data-testid="empty">{children || message || 'Nothing here.'}</div>;
}
