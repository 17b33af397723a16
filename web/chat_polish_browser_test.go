package web_test

import (
	"fmt"
	"testing"

	"regulars/internal/testenv"
)

// Browser tests of the agents' chat after its polish round: the thread's
// header, failed messages' place in the thread. Helpers (agentChat) are in
// chat_ux_browser_test.go.

// A conversation with an owner keeps Finish and the history toggle on the
// name's row, inside the header, with the owner's name shown whole under
// it: at 1280 and 1440 px, on a 390 px phone, and where the thread is
// narrowest beside the list (960 px, or 1280 px zoomed to 133 %), where
// Finish went under the name.
func TestAgentChatHeaderKeepsFinishBesideTheName(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	fa := x.follower(t, "22FJJ2XD", "Mia Johansson")
	conv := x.followerSays(t, fa, "Can I use my beans in the airport shop too?")
	x.agentSays(t, x.ann, conv.ID, "Yes: beans work in every shop.")
	for _, size := range [][2]int64{{1280, 800}, {1440, 900}, {390, 844}, {960, 800}} {
		b := x.open(t, x.ann, size[0], size[1], fmt.Sprintf("/admin/chat/%d", conv.ID))
		waitTrue(t, b, `(() => {
		  const q = (s) => document.querySelector(s), r = (s) => q(s).getBoundingClientRect();
		  const head = r(".thread-head"), who = r(".thread-who"), finish = r("#finish"), actions = r(".thread-actions");
		  const owner = q("#conv-owner");
		  const sameRow = finish.height > 0 && finish.top < who.bottom && finish.bottom > who.top;
		  const inside = actions.right <= head.right + 0.5 && actions.left >= who.right - 0.5;
		  const ownerWhole = owner.textContent === "Owner: Ann Agent" && owner.scrollWidth <= owner.clientWidth && r("#conv-owner").right <= head.right;
		  return sameRow && inside && ownerWhole;
		})()`, fmt.Sprintf("Finish beside the name and the owner whole at %dx%d", size[0], size[1]))
		testenv.Screenshot(t, b, fmt.Sprintf("header-owner-%d", size[0]))
	}
}
