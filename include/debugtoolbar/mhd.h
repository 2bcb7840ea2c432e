/*
 * debugtoolbar/mhd.h - optional drop-in: include after <microhttpd.h> and <debugtoolbar.h> and
 * MHD's buffer response constructors, MHD_queue_response and MHD_destroy_response become the
 * toolbar's, which remember bodies (buffers, files read at their offset, and streams: content
 * readers and pipes) so HTML pages get the toolbar. iovec responses are MHD's own and pass
 * through untouched.
 *
 * Compile with -DDTB_DISABLE to keep MHD's own names (no toolbar code in the app's calls).
 */
#ifndef DEBUGTOOLBAR_MHD_H
#define DEBUGTOOLBAR_MHD_H

#include <debugtoolbar.h>

#ifndef DTB_DISABLE
#define MHD_create_response_from_buffer dtb_response_from_buffer
#define MHD_create_response_from_buffer_static dtb_response_from_buffer_static
#define MHD_create_response_from_buffer_copy dtb_response_from_buffer_copy
#define MHD_create_response_from_buffer_with_free_callback                                         \
    dtb_response_from_buffer_with_free_callback
#define MHD_create_response_from_buffer_with_free_callback_cls                                     \
    dtb_response_from_buffer_with_free_callback_cls
#define MHD_create_response_from_fd dtb_response_from_fd
#define MHD_create_response_from_fd64 dtb_response_from_fd64
#undef MHD_create_response_from_fd_at_offset /* a macro of MHD's, deprecated */
#define MHD_create_response_from_fd_at_offset dtb_response_from_fd_at_offset
#define MHD_create_response_from_fd_at_offset64 dtb_response_from_fd_at_offset64
#define MHD_create_response_from_callback dtb_response_from_callback
#define MHD_create_response_from_pipe dtb_response_from_pipe
#define MHD_queue_response dtb_queue_response
#define MHD_destroy_response dtb_destroy_response
#endif

#endif /* DEBUGTOOLBAR_MHD_H */
