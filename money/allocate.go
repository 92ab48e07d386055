package money

import (
	"cmp"
	"math/bits"
	"slices"
)

// Allocate splits a into len(weights) parts proportional to weights, so that the parts sum
// exactly to a: no minor unit is lost or created. Splitting 0.05 EUR by 3 and 7 gives 0.02 EUR
// and 0.03 EUR; splitting 100.00 EUR in three equal parts gives 33.34, 33.33 and 33.33 EUR.
//
// It uses the largest-remainder method: each part first gets its exact share rounded toward
// zero, then the minor units left over go one each to the parts with the largest dropped
// remainders, ties to the lower index. So each part is within one minor unit of its exact share,
// a weight of 0 always gets 0, and a negative amount is split as the mirror image of the
// positive one. The computation is exact for every int64 amount.
//
// The weights must not be negative and must have a positive sum, or the error wraps
// ErrInvalidWeights; a sum beyond int64 is an error wrapping ErrOverflow.
func (a Amount) Allocate(weights ...int64) ([]Amount, error) {
	if len(weights) == 0 {
		return nil, newError(ErrInvalidWeights, "allocate %s: no weights", a)
	}
	for i, w := range weights {
		if w < 0 {
			return nil, newError(ErrInvalidWeights, "allocate %s: weight %d is %d, weights must not be negative", a, i, w)
		}
	}
	var sum uint64
	for _, w := range weights {
		sum += uint64(w) // both below 1<<63, so this cannot wrap
		if sum > 1<<63-1 {
			return nil, newError(ErrOverflow, "allocate %s: the weights sum beyond int64 (overflow)", a)
		}
	}
	if sum == 0 {
		return nil, newError(ErrInvalidWeights, "allocate %s: the weights sum to 0", a)
	}

	total, neg := magnitude(a.minor), a.minor < 0
	// parts[i].minor holds the magnitude of part i (at most 1<<63, as its bit pattern) until the
	// sign is applied at the end.
	parts := make([]Amount, len(weights))
	var remBuf [16]uint64
	rems := remBuf[:0]
	if len(weights) > len(remBuf) {
		rems = make([]uint64, 0, len(weights))
	}
	given := uint64(0)
	for i, w := range weights {
		// total×w/sum <= total < 1<<64, so hi < sum and Div64 cannot panic.
		hi, lo := bits.Mul64(total, uint64(w))
		q, r := bits.Div64(hi, lo, sum)
		parts[i].minor = int64(q)
		rems = append(rems, r)
		given += q
	}
	// The remainders sum to left×sum and each is below sum, so more than left of them are
	// non-zero: the leftover units never go to a zero remainder (nor to a zero weight), and a
	// part that gets one was below total, so the increment cannot wrap.
	left := total - given
	if left > 0 {
		if len(weights) <= len(remBuf) {
			var taken uint16
			for range left {
				best := -1
				for i, r := range rems {
					if taken&(1<<i) == 0 && (best < 0 || r > rems[best]) {
						best = i
					}
				}
				taken |= 1 << best
				parts[best].minor++
			}
		} else {
			order := make([]int, len(weights))
			for i := range order {
				order[i] = i
			}
			// Largest remainder first; the stable sort keeps ties in index order.
			slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(rems[y], rems[x]) })
			for _, i := range order[:left] {
				parts[i].minor++
			}
		}
	}
	for i := range parts {
		parts[i] = Amount{minor: signed(uint64(parts[i].minor), neg), cur: a.cur}
	}
	return parts, nil
}
