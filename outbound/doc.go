// Package outbound sends postbacks to the receivers that expect them: affiliates' trackers
// and networks. It renders each postback from an [Endpoint]'s templates into a stored
// delivery, and sends it later.
package outbound
