"""graphdiff.scene.codecs: the box codec round trip, the shape codec, batching as PyG, and the deprecated imports
from graphdiff.data.scenes."""

import numpy as np
import pytest

from graphdiff.data import scenes as S
from graphdiff.scene.codecs import BoxCodec, ShapeCodec, scene_to_data, scenes_to_batch


def test_box_codec_round_trip():
    scenes = S.generate_scenes(60, seed=3)
    codec = BoxCodec().fit(scenes)
    for sc in scenes[:9]:
        keep = sc.classes != S.SCENE_ID
        enc = codec.encode(sc.boxes[keep], sc.room_type)
        assert enc.shape == (keep.sum(), 8)
        assert enc[:, :6].min() >= -1 - 1e-9 and enc[:, :6].max() <= 1 + 1e-9
        dec = codec.decode(enc, sc.room_type)
        np.testing.assert_allclose(dec[:, :6], sc.boxes[keep, :6], atol=1e-9)
        # the yaw comes back modulo 2 pi
        dtheta = np.angle(np.exp(1j * (dec[:, 6] - sc.boxes[keep, 6])))
        np.testing.assert_allclose(dtheta, 0, atol=1e-9)
    restored = BoxCodec.from_state_dict(codec.state_dict())
    np.testing.assert_allclose(restored.encode(scenes[0].boxes, "bedroom"), codec.encode(scenes[0].boxes, "bedroom"))


def test_box_codec_errors():
    with pytest.raises(ValueError, match="not fitted"):
        BoxCodec().encode(np.zeros((1, 7)), "bedroom")
    codec = BoxCodec().fit(S.generate_scenes(3, room_types="bedroom"))
    with pytest.raises(ValueError, match="room type"):
        codec.encode(np.zeros((1, 7)), "diningroom")
    with pytest.raises(ValueError, match=r"\(n, 7\)"):
        codec.encode(np.zeros((1, 6)), "bedroom")


def test_shape_codec():
    all_cls = np.repeat(np.arange(1, 13), 8)
    all_grids = S.shape_grids(all_cls, np.tile(np.arange(8), 12))
    codec = ShapeCodec(16).fit(all_grids)
    codes = codec.encode(all_grids)
    assert codes.shape == (96, 16)
    rec = codec.decode(codes) >= 0.5
    assert (rec == all_grids).mean() > 0.97
    restored = ShapeCodec.from_state_dict(codec.state_dict())
    np.testing.assert_array_equal(restored.encode(all_grids), codes)
    with pytest.raises(ValueError, match="not fitted"):
        ShapeCodec(4).encode(all_grids)
    with pytest.raises(ValueError, match="`dim`"):
        ShapeCodec(2.5).fit(all_grids)
    with pytest.raises(ValueError, match="`dim`=200 exceeds"):
        ShapeCodec(200).fit(all_grids)


def test_batching_as_pyg():
    scenes = S.generate_scenes(5, seed=0)
    codec = BoxCodec().fit(scenes)
    shape_codec = ShapeCodec(8).fit(S.shape_grids(np.repeat(np.arange(1, 13), 8), np.tile(np.arange(8), 12)))
    batch = scenes_to_batch(scenes, codec, shape_codec)
    assert batch.num_graphs == 5
    assert batch.box.shape == (sum(s.num_nodes for s in scenes), 8)
    assert batch.shape_code.shape[1] == 8
    assert batch.edge_type.shape[0] == batch.edge_index.shape[1] == sum(len(s.triples) for s in scenes)
    # edges stay inside their scene
    assert (batch.batch[batch.edge_index[0]] == batch.batch[batch.edge_index[1]]).all()
    assert not batch.box_mask[batch.node_class == S.SCENE_ID].any()
    assert not batch.shape_mask[batch.node_class == S.FLOOR_ID].any()


def test_scene_to_data_validates_and_batches_refuse_bad_input():
    sc = S.generate_scenes(1, seed=0)[0]
    codec = BoxCodec().fit([sc])
    data = scene_to_data(sc, codec)
    assert data.num_nodes == sc.num_nodes and data.edge_type.shape == (len(sc.triples),)
    bad = sc.copy()
    bad.classes[0] = 99
    with pytest.raises(ValueError, match="class id 99"):
        scene_to_data(bad, codec)
    with pytest.raises(ValueError, match="empty"):
        scenes_to_batch([], codec)


@pytest.mark.parametrize("name", ["BoxCodec", "ShapeCodec", "scene_to_data", "scenes_to_batch"])
def test_moved_names_still_import_from_the_data_layer_with_a_warning(name):
    import graphdiff.scene.codecs as codecs

    with pytest.warns(DeprecationWarning, match=f"graphdiff.scene.codecs.{name}"):
        obj = getattr(S, name)
    assert obj is getattr(codecs, name)
    with pytest.raises(AttributeError):
        S.no_such_name  # noqa: B018
