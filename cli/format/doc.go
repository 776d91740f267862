// Package format renders berth's human-facing output the way Docker's CLI
// does: Go templates with Docker's helper functions, "table" formats aligned
// with a tabwriter, and the human units of sizes ("4.27MB"), ages
// ("2 minutes ago") and container states ("Up 3 seconds").
package format
