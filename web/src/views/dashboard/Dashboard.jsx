/* Dashboard — to be built. */
export default function Dashboard() {
  return <section class="view"><h1>Dashboard</h1></section>;
}
