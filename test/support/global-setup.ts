// Jest global setup: nothing shared yet beyond a sanity check that the test databases are reachable is done per file.
export default async function globalSetup(): Promise<void> {}
