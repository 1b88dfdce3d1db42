package survey

import "testing"

func TestStatusMoves(t *testing.T) {
	allowed := map[[2]Status]bool{
		{StatusCounted, StatusQuarantined}: true,
		{StatusFlagged, StatusQuarantined}: true,
		{StatusFlagged, StatusCounted}:     true,
		{StatusQuarantined, StatusCounted}: true,
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			want := from == to || allowed[[2]Status{from, to}]
			if got := from.CanMove(to); got != want {
				t.Errorf("%s → %s: got %v, want %v", from, to, got, want)
			}
		}
	}
	if Status("deleted").CanMove(StatusCounted) || StatusCounted.CanMove("deleted") {
		t.Error("an unknown status moved")
	}
}
