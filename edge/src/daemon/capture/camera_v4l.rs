//! A V4L2 camera through nokhwa. The camera handle lives on its own `rollcall-camera` thread
//! (nokhwa's handle is not `Send`); [`V4lSource::grab`] asks that thread for one frame.
//! Frames are decoded to RGB in memory and never written anywhere.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use image::RgbImage;
use nokhwa::Camera;
use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{CameraIndex, RequestedFormat, RequestedFormatType, Resolution};

use super::camera::{CameraError, FrameSource};

type Reply = Result<RgbImage, CameraError>;

/// A V4L2 device, `/dev/video<index>`.
#[derive(Debug)]
pub struct V4lSource {
    requests: SyncSender<SyncSender<Reply>>,
}

impl V4lSource {
    /// Opens the camera on its own thread; fails if it cannot be opened.
    pub fn open(index: u32, width: u32, height: u32) -> Result<Self, CameraError> {
        let (requests, incoming) = sync_channel::<SyncSender<Reply>>(1);
        let (opened_tx, opened) = sync_channel(1);
        std::thread::Builder::new()
            .name("rollcall-camera".into())
            .spawn(move || match open(index, width, height) {
                Ok(camera) => {
                    let _ = opened_tx.send(Ok(()));
                    serve(camera, incoming);
                }
                Err(e) => {
                    let _ = opened_tx.send(Err(e));
                }
            })
            .map_err(|e| CameraError::Device(e.to_string()))?;
        opened
            .recv()
            .map_err(|_| CameraError::Device("camera thread died".into()))??;
        Ok(Self { requests })
    }
}

impl FrameSource for V4lSource {
    fn grab(&mut self) -> Result<RgbImage, CameraError> {
        let (tx, rx) = sync_channel(1);
        let gone = || CameraError::Device("camera thread stopped".into());
        self.requests.send(tx).map_err(|_| gone())?;
        rx.recv().map_err(|_| gone())?
    }
}

fn open(index: u32, width: u32, height: u32) -> Result<Camera, CameraError> {
    let wanted = RequestedFormatType::HighestResolution(Resolution::new(width, height));
    let format = RequestedFormat::new::<RgbFormat>(wanted);
    let device = |e: nokhwa::NokhwaError| CameraError::Device(e.to_string());
    let mut camera = Camera::new(CameraIndex::Index(index), format).map_err(device)?;
    camera.open_stream().map_err(device)?;
    Ok(camera)
}

fn serve(mut camera: Camera, incoming: Receiver<SyncSender<Reply>>) {
    for reply in incoming {
        let _ = reply.send(frame(&mut camera));
    }
    let _ = camera.stop_stream();
}

fn frame(camera: &mut Camera) -> Reply {
    let device = |e: nokhwa::NokhwaError| CameraError::Device(e.to_string());
    let buffer = camera.frame().map_err(device)?;
    let decoded = buffer.decode_image::<RgbFormat>().map_err(device)?;
    let (w, h) = (decoded.width(), decoded.height());
    RgbImage::from_raw(w, h, decoded.into_raw())
        .ok_or_else(|| CameraError::Device("frame has the wrong size".into()))
}
