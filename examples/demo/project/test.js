import assert from "node:assert/strict"
import { add, mean, median } from "./src/math.js"

assert.equal(add(2, 3), 5)
assert.equal(mean([1, 2, 3, 4]), 2.5)
assert.equal(median([3, 1, 2]), 2)
assert.equal(median([4, 1, 3, 2]), 2.5)
console.log("4 assertions passed")
