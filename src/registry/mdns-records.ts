import type { Answer } from 'dns-packet'
import { ANY_TYPE_NAME, instanceName, namespaceTypeName, serviceTypeName, srvData } from './mdns-names.js'
import type { NodeRecord, ServiceRecord } from './registry.js'

/** One node of one service version in one namespace: what one mDNS response carries. */
export interface Announcement {
  namespace: string
  /** The service version with exactly one node. */
  service: ServiceRecord
}

/** An announcement read from a packet, with its record TTL in seconds (0 = goodbye). */
export interface ReceivedAnnouncement {
  announcement: Announcement
  ttl: number
}

/** The node an announcement is about. */
export function announcedNode(announcement: Announcement): NodeRecord {
  return announcement.service.nodes[0] as NodeRecord
}

/** A key unique per namespace, service, version and node. */
export function announcementKey(announcement: Announcement): string {
  const { namespace, service } = announcement
  return `${namespace}\0${service.name}\0${service.version}\0${announcedNode(announcement).id}`
}

/** The records announcing (or, with ttl 0, withdrawing) one node. */
export function announcementAnswers(announcement: Announcement, payload: Buffer[], ttl: number): Answer[] {
  const { namespace, service } = announcement
  const node = announcedNode(announcement)
  const instance = instanceName(namespace, service.name, service.version, node.id)
  return [
    { type: 'PTR', name: namespaceTypeName(namespace), ttl, data: instance },
    { type: 'PTR', name: ANY_TYPE_NAME, ttl, data: instance },
    { type: 'PTR', name: serviceTypeName(namespace, service.name), ttl, data: instance },
    { type: 'SRV', name: instance, ttl, data: srvData(node.address) },
    { type: 'TXT', name: instance, ttl, data: payload },
  ]
}
