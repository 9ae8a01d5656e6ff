/* The relay of the coalesced-write floor: the least a single-threaded chat
 * server does.  It reads fixed-size records, each naming a room, encodes each
 * once as the WebSocket frame of a Socket.IO `message` event (so that readers
 * do the same work per delivery as against a server), and copies that frame
 * to every member of the room, writing each connection once per loop turn
 * (one send() carrying every frame that reached it in that turn, a turn
 * lasting while input is ready, up to 1 ms).  No
 * parsing, no JSON library, no allocation per delivery: what is left is the
 * kernel's part of the relay. */
#ifndef LOADGEN_FLOOR_RELAY_H
#define LOADGEN_FLOOR_RELAY_H

#include <stdint.h>

/* A record on the wire, at the start of each --size-byte message. */
struct floor_record {
    uint64_t sent_us;   /* the sender's clock_now_us() */
    uint64_t seq;
    uint32_t room;
    uint32_t sender;    /* the sending connection's index */
};

/* Connections 0 .. rooms * room_size - 1 are members of room index /
 * room_size; those after (the fanout shape's publishers) of none.  Each
 * connection starts with its index (uint32_t) so that the relay knows it. */
struct floor_relay_layout {
    unsigned connections;
    unsigned rooms;
    unsigned room_size;
    unsigned record_size;   /* what publishers send */
    unsigned frame_size;    /* what members get: the frame, padded to this (at least 160) */
};

/* Accept the layout's connections on listener and relay until stop_fd is
 * readable (or every connection closed).  Runs in the child process; returns
 * its exit status (0 clean, 1 relay error, 2 setup error).  After the
 * relay, writes the number of send() calls it made (uint64_t) to result_fd. */
int floor_relay_serve(int listener, int stop_fd, int result_fd, const struct floor_relay_layout *layout);

#endif
