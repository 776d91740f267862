// Package image implements berth's image commands: images, load, import,
// tag and rmi.
package image
