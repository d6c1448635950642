/** What `bin.ts` does before anything else loads, in one small module (the `--version` path never loads it). */
export { useCompactHeap } from "../process/Heap.js"
export { withdrawCredentials } from "./Credentials.js"
